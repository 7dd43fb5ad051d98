% Text
% Vic has never married and runs a shop. Wes worked there all of 2017 and Vic paid him $5000 on
% June 30th and $5000 on December 29th, 2017; Xia worked there from March 1st to August 31st, 2017
% and Vic paid her $5000 on August 31st, 2017, all in cash. Vic was paid $80000 in 2017 and
% takes the standard deduction.
% By hand: Vic is an employer (§3306(a)(1)(A)). Wages: of Wes's $10,000 only the first $7,000
% paid in the year count (§3306(b)(1)); Xia's $5,000 count: $12,000, excise tax 6% = $720.
% Income tax: $80,000 - $3,000 - $2,000 = $75,000: §1(c)(iii), $12,107 + 31% of $21,500 =
% $18,772. Total $19,492.

% Question
% How much tax does vic have to pay in 2017? $19492

% Facts
:- [statutes/prolog/init].
business_(vics_shop).
agent_(vics_shop,vic).
service_(wes_works).
agent_(wes_works,wes).
patient_(wes_works,vic).
location_(wes_works,vics_shop).
start_(wes_works,"2017-01-02").
end_(wes_works,"2017-12-29").
payment_(vic_pays_wes_june).
agent_(vic_pays_wes_june,vic).
patient_(vic_pays_wes_june,wes).
purpose_(vic_pays_wes_june,wes_works).
means_(vic_pays_wes_june,"cash").
amount_(vic_pays_wes_june,5000).
start_(vic_pays_wes_june,"2017-06-30").
payment_(vic_pays_wes_dec).
agent_(vic_pays_wes_dec,vic).
patient_(vic_pays_wes_dec,wes).
purpose_(vic_pays_wes_dec,wes_works).
means_(vic_pays_wes_dec,"cash").
amount_(vic_pays_wes_dec,5000).
start_(vic_pays_wes_dec,"2017-12-29").
service_(xia_works).
agent_(xia_works,xia).
patient_(xia_works,vic).
location_(xia_works,vics_shop).
start_(xia_works,"2017-03-01").
end_(xia_works,"2017-08-31").
payment_(vic_pays_xia).
agent_(vic_pays_xia,vic).
patient_(vic_pays_xia,xia).
purpose_(vic_pays_xia,xia_works).
means_(vic_pays_xia,"cash").
amount_(vic_pays_xia,5000).
start_(vic_pays_xia,"2017-08-31").
payment_(vic_paid).
patient_(vic_paid,vic).
amount_(vic_paid,80000).
start_(vic_paid,"2017-12-31").

% Test
:- tax(vic,2017,19492).
:- halt.
