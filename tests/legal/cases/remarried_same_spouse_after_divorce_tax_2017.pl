% Text
% Tia and Uri married in 2005 and divorced by a decree of February 2nd, 2014. They married each other
% again on August 8th, 2016 and file separate returns. Tia earned $50000 in 2017 and Uri $20000;
% neither itemizes.
% By hand: married at the close of 2017, separate returns: §1(d). $50,000 - $3,000 - $2,000 (no
% exemption for Uri, who has income) = $45,000: §1(d)(iii) $10,082.50 + 31% of $425 = $10,214.25.

% Question
% How much tax does Tia have to pay in 2017? $10214

% Facts
:- [statutes/prolog/init].
marriage_(tia_uri_first).
agent_(tia_uri_first,tia).
agent_(tia_uri_first,uri).
start_(tia_uri_first,"2005-05-05").
legal_separation_(tia_uri_divorce).
agent_(tia_uri_divorce,"decree of divorce").
patient_(tia_uri_divorce,tia_uri_first).
start_(tia_uri_divorce,"2014-02-02").
marriage_(tia_uri_second).
agent_(tia_uri_second,uri).
patient_(tia_uri_second,tia).
start_(tia_uri_second,"2016-08-08").
income_(tia_income).
agent_(tia_income,tia).
amount_(tia_income,50000).
start_(tia_income,"2017-12-31").
income_(uri_income).
agent_(uri_income,uri).
amount_(uri_income,20000).
start_(uri_income,"2017-12-31").

% Test
:- tax(tia,2017,10214).
:- halt.
