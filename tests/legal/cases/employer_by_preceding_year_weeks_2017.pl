% Text
% Kat worked for Jack from March 1st to June 30th, 2016, for $1200, and again from May 8th to May
% 12th, 2017, for $400. Jack is unmarried, earned $40000 in 2017 and does not itemize.
% By hand: wages were under $1,500 in both years, but in 2016 Jack employed Kat on days of 18
% different calendar weeks: an employer for 2017 (§3306(a)(1)(B), the preceding year). Excise 6%
% of $400 = $24. Income tax $40,000 - $5,000 = $35,000: §1(c)(ii), $3,315 + 28% of $12,900 =
% $6,927. Total $6,951.

% Question
% How much tax does Jack have to pay in 2017? $6951

% Facts
:- [statutes/prolog/init].
service_(kat_works_2016).
agent_(kat_works_2016,kat).
patient_(kat_works_2016,jack).
start_(kat_works_2016,"2016-03-01").
end_(kat_works_2016,"2016-06-30").
payment_(jack_pays_kat_2016).
agent_(jack_pays_kat_2016,jack).
patient_(jack_pays_kat_2016,kat).
purpose_(jack_pays_kat_2016,kat_works_2016).
amount_(jack_pays_kat_2016,1200).
start_(jack_pays_kat_2016,"2016-06-30").
service_(kat_works_2017).
agent_(kat_works_2017,kat).
patient_(kat_works_2017,jack).
start_(kat_works_2017,"2017-05-08").
end_(kat_works_2017,"2017-05-12").
payment_(jack_pays_kat_2017).
agent_(jack_pays_kat_2017,jack).
patient_(jack_pays_kat_2017,kat).
purpose_(jack_pays_kat_2017,kat_works_2017).
amount_(jack_pays_kat_2017,400).
start_(jack_pays_kat_2017,"2017-05-12").
income_(jack_income_2017).
agent_(jack_income_2017,jack).
amount_(jack_income_2017,40000).
start_(jack_income_2017,"2017-12-31").

% Test
:- tax(jack,2017,6951).
:- halt.
