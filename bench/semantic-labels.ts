// Hand-labelled evaluation columns: `case/TABLE.COLUMN` → [semantic type, PII class], labelled by meaning from the data.
// Columns of scrambled-name targets inherit their label through the case's truth.csv (see eval-semantic.ts).
// Each case belongs to one fixed part (PARTS): rules may be tuned on `tuning` only; `held-out` is for reporting.
type L = [string, 'none' | 'personal' | 'sensitive'];
const id: L = ['identifier', 'none'];
const fk: L = ['foreign_key', 'none'];
const q: L = ['quantity', 'none'];
const lab: L = ['label', 'none'];
const money: L = ['currency_amount', 'none'];

/**
 * The fixed split, by dataset (all columns of a case are on one side, so values never leak across):
 * - tuning: legacy_hr, chinook, the Valentine musicians pair, the generated validator table;
 * - held-out: pubs (pubs1 with its names, pubs2 with scrambled names) and the MySQL employees sample. employees was
 *   labelled before the classifier ever ran on it; pubs was in the evaluation set the earlier rules were tuned on.
 */
export const PARTS: Record<string, 'tuning' | 'held-out'> = {
  legacy_hr: 'tuning',
  chinook: 'tuning',
  musicians: 'tuning',
  generated: 'tuning',
  pubs: 'held-out',
  pubs2: 'held-out',
  employees: 'held-out',
};

export const LABELS: Record<string, L> = {
  // legacy_hr (SQLite, abbreviated legacy names)
  'legacy_hr/DEPT.DEPT_CD': id, 'legacy_hr/DEPT.DEPT_NAME': lab,
  'legacy_hr/EMP.EMP_NO': id, 'legacy_hr/EMP.EMP_FNM': ['given_name', 'personal'], 'legacy_hr/EMP.EMP_LNM': ['family_name', 'personal'],
  'legacy_hr/EMP.EMAIL_ID': ['email', 'personal'], 'legacy_hr/EMP.HIRE_DT': ['date', 'none'], 'legacy_hr/EMP.TERM_FLG': ['boolean_flag', 'none'],
  'legacy_hr/EMP.SAL_AMT': money, 'legacy_hr/EMP.DEPT_CD': fk, 'legacy_hr/EMP.MGR_EMP_NO': fk,
  'legacy_hr/EMP_ADDR.EMP_NO': fk, 'legacy_hr/EMP_ADDR.ADDR_TYP': ['code', 'none'], 'legacy_hr/EMP_ADDR.STR_ADDR': ['address_line', 'personal'],
  'legacy_hr/EMP_ADDR.TOWN': ['city', 'none'], 'legacy_hr/EMP_ADDR.PST_CD': ['postal_code', 'personal'],

  // chinook (MariaDB)
  'chinook/Album.AlbumId': id, 'chinook/Album.Title': lab, 'chinook/Album.ArtistId': fk,
  'chinook/Artist.ArtistId': id, 'chinook/Artist.Name': lab,
  'chinook/Customer.CustomerId': id, 'chinook/Customer.FirstName': ['given_name', 'personal'], 'chinook/Customer.LastName': ['family_name', 'personal'],
  'chinook/Customer.Company': lab, 'chinook/Customer.Address': ['address_line', 'personal'], 'chinook/Customer.City': ['city', 'none'],
  'chinook/Customer.State': ['region', 'none'], 'chinook/Customer.Country': ['country', 'none'], 'chinook/Customer.PostalCode': ['postal_code', 'personal'],
  'chinook/Customer.Phone': ['phone_number', 'personal'], 'chinook/Customer.Fax': ['phone_number', 'personal'], 'chinook/Customer.Email': ['email', 'personal'],
  'chinook/Customer.SupportRepId': fk,
  'chinook/Employee.EmployeeId': id, 'chinook/Employee.LastName': ['family_name', 'personal'], 'chinook/Employee.FirstName': ['given_name', 'personal'],
  'chinook/Employee.Title': lab, 'chinook/Employee.ReportsTo': fk, 'chinook/Employee.BirthDate': ['date_of_birth', 'sensitive'],
  'chinook/Employee.HireDate': ['date', 'none'], 'chinook/Employee.Address': ['address_line', 'personal'], 'chinook/Employee.City': ['city', 'none'],
  'chinook/Employee.State': ['region', 'none'], 'chinook/Employee.Country': ['country', 'none'], 'chinook/Employee.PostalCode': ['postal_code', 'personal'],
  'chinook/Employee.Phone': ['phone_number', 'personal'], 'chinook/Employee.Fax': ['phone_number', 'personal'], 'chinook/Employee.Email': ['email', 'personal'],
  'chinook/Genre.GenreId': id, 'chinook/Genre.Name': lab,
  'chinook/Invoice.InvoiceId': id, 'chinook/Invoice.CustomerId': fk, 'chinook/Invoice.InvoiceDate': ['date', 'none'],
  'chinook/Invoice.BillingAddress': ['address_line', 'personal'], 'chinook/Invoice.BillingCity': ['city', 'none'], 'chinook/Invoice.BillingState': ['region', 'none'],
  'chinook/Invoice.BillingCountry': ['country', 'none'], 'chinook/Invoice.BillingPostalCode': ['postal_code', 'personal'], 'chinook/Invoice.Total': money,
  'chinook/InvoiceLine.InvoiceLineId': id, 'chinook/InvoiceLine.InvoiceId': fk, 'chinook/InvoiceLine.TrackId': fk, 'chinook/InvoiceLine.UnitPrice': money,
  'chinook/InvoiceLine.Quantity': q,
  'chinook/MediaType.MediaTypeId': id, 'chinook/MediaType.Name': lab,
  'chinook/Playlist.PlaylistId': id, 'chinook/Playlist.Name': lab,
  'chinook/PlaylistTrack.PlaylistId': fk, 'chinook/PlaylistTrack.TrackId': fk,
  'chinook/Track.TrackId': id, 'chinook/Track.Name': lab, 'chinook/Track.AlbumId': fk, 'chinook/Track.MediaTypeId': fk, 'chinook/Track.GenreId': fk,
  'chinook/Track.Composer': ['person_name', 'personal'], 'chinook/Track.Milliseconds': q, 'chinook/Track.Bytes': q, 'chinook/Track.UnitPrice': money,

  // pubs1 (CSV → SQLite text columns)
  'pubs/authors.au_id': ['national_id', 'sensitive'], 'pubs/authors.au_lname': ['family_name', 'personal'], 'pubs/authors.au_fname': ['given_name', 'personal'],
  'pubs/authors.phone': ['phone_number', 'personal'], 'pubs/authors.address': ['address_line', 'personal'], 'pubs/authors.city': ['city', 'none'],
  'pubs/authors.state': ['region', 'none'], 'pubs/authors.zip': ['postal_code', 'personal'], 'pubs/authors.contract': ['boolean_flag', 'none'],
  'pubs/discounts.discounttype': lab, 'pubs/discounts.stor_id': fk, 'pubs/discounts.lowqty': q, 'pubs/discounts.highqty': q, 'pubs/discounts.discount': q,
  'pubs/employee.emp_id': id, 'pubs/employee.fname': ['given_name', 'personal'], 'pubs/employee.minit': ['given_name', 'personal'],
  'pubs/employee.lname': ['family_name', 'personal'], 'pubs/employee.job_id': fk, 'pubs/employee.job_lvl': q, 'pubs/employee.pub_id': fk,
  'pubs/employee.hire_date': ['date', 'none'],
  'pubs/jobs.job_id': id, 'pubs/jobs.job_desc': lab, 'pubs/jobs.min_lvl': q, 'pubs/jobs.max_lvl': q,
  'pubs/pub_info.pub_id': fk, 'pubs/pub_info.pr_info': ['free_text', 'none'],
  'pubs/publishers.pub_id': id, 'pubs/publishers.pub_name': lab, 'pubs/publishers.city': ['city', 'none'], 'pubs/publishers.state': ['region', 'none'],
  'pubs/publishers.country': ['country', 'none'],
  'pubs/roysched.title_id': fk, 'pubs/roysched.lorange': q, 'pubs/roysched.hirange': q, 'pubs/roysched.royalty': q,
  'pubs/sales.stor_id': fk, 'pubs/sales.ord_num': id, 'pubs/sales.ord_date': ['date', 'none'], 'pubs/sales.qty': q, 'pubs/sales.payterms': ['code', 'none'],
  'pubs/sales.title_id': fk,
  'pubs/stores.stor_id': id, 'pubs/stores.stor_name': lab, 'pubs/stores.stor_address': ['address_line', 'none'], 'pubs/stores.city': ['city', 'none'],
  'pubs/stores.state': ['region', 'none'], 'pubs/stores.zip': ['postal_code', 'none'],
  'pubs/titleauthor.au_id': ['foreign_key', 'sensitive'], 'pubs/titleauthor.title_id': fk, 'pubs/titleauthor.au_ord': q, 'pubs/titleauthor.royaltyper': q,
  'pubs/titles.title_id': id, 'pubs/titles.title': lab, 'pubs/titles.type': ['code', 'none'], 'pubs/titles.pub_id': fk, 'pubs/titles.price': money,
  'pubs/titles.advance': money, 'pubs/titles.royalty': q, 'pubs/titles.ytd_sales': q, 'pubs/titles.notes': ['free_text', 'none'], 'pubs/titles.pubdate': ['date', 'none'],

  // Valentine Wikidata musicians (CSV → SQLite)
  'musicians/musicians_unionable_source.musician': ['url', 'none'], 'musicians/musicians_unionable_source.musicianLabel': ['person_name', 'personal'],
  'musicians/musicians_unionable_source.genderLabel': ['code', 'personal'], 'musicians/musicians_unionable_source.birthDate': ['date_of_birth', 'sensitive'],
  'musicians/musicians_unionable_source.cityLabel': ['city', 'none'], 'musicians/musicians_unionable_source.familyNameLabel': ['family_name', 'personal'],
  'musicians/musicians_unionable_source.givenNameLabel': ['given_name', 'personal'], 'musicians/musicians_unionable_source.fatherLabel': ['person_name', 'personal'],
  'musicians/musicians_unionable_source.motherLabel': ['person_name', 'personal'], 'musicians/musicians_unionable_source.partner': ['person_name', 'personal'],
  'musicians/musicians_unionable_source.numberOfChildren': q, 'musicians/musicians_unionable_source.genreLabel': lab,
  'musicians/musicians_unionable_source.websiteLabel': ['url', 'none'], 'musicians/musicians_unionable_source.residenceLabel': ['city', 'none'],
  'musicians/musicians_unionable_source.ethnicityLabel': ['special_category', 'sensitive'], 'musicians/musicians_unionable_source.religionLabel': ['special_category', 'sensitive'],
  'musicians/musicians_unionable_source.activityStart': ['date', 'none'], 'musicians/musicians_unionable_source.twitterNameLabel': ['username', 'personal'],
  'musicians/musicians_unionable_source.geniusNameLabel': ['username', 'personal'], 'musicians/musicians_unionable_source.recordLabelLabel': lab,

  // MySQL employees sample (datacharmer/test_db schema, bytebase subset); held out, labelled before it was ever analysed.
  'employees/employee.emp_no': id, 'employees/employee.birth_date': ['date_of_birth', 'sensitive'],
  'employees/employee.first_name': ['given_name', 'personal'], 'employees/employee.last_name': ['family_name', 'personal'],
  'employees/employee.gender': ['code', 'personal'], 'employees/employee.hire_date': ['date', 'none'],
  'employees/department.dept_no': id, 'employees/department.dept_name': lab,
  'employees/dept_manager.emp_no': fk, 'employees/dept_manager.dept_no': fk, 'employees/dept_manager.from_date': ['date', 'none'],
  'employees/dept_manager.to_date': ['date', 'none'],
  'employees/dept_emp.emp_no': fk, 'employees/dept_emp.dept_no': fk, 'employees/dept_emp.from_date': ['date', 'none'], 'employees/dept_emp.to_date': ['date', 'none'],
  'employees/title.emp_no': fk, 'employees/title.title': lab, 'employees/title.from_date': ['date', 'none'], 'employees/title.to_date': ['date', 'none'],
  'employees/salary.emp_no': fk, 'employees/salary.amount': money, 'employees/salary.from_date': ['date', 'none'], 'employees/salary.to_date': ['date', 'none'],
};
