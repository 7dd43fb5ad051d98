% Text
% Ned drove for Mo from October 1st, 2016 to June 30th, 2017. Mo paid him $6000 on December 15th,
% 2016, $6000 on January 15th, 2017 and $3000 on June 30th, 2017. Mo, unmarried, earned $30000 in
% 2017 and does not itemize.
% By hand: the $7,000 base of §3306(b)(1) counts what was paid during the calendar year: 2017's
% wages are $6,000 + $1,000 = $7,000, excise $420. Income tax: $30,000 - $3,000 - $2,000 = $25,000:
% §1(c)(ii), $3,315 + 28% of $2,900 = $4,127. Total $4,547.

% Question
% How much tax does Mo have to pay in 2017? $4547

% Facts
:- [statutes/prolog/init].
service_(ned_drives_for_mo).
agent_(ned_drives_for_mo,ned).
patient_(ned_drives_for_mo,mo).
start_(ned_drives_for_mo,"2016-10-01").
end_(ned_drives_for_mo,"2017-06-30").
payment_(mo_pays_ned_2016).
agent_(mo_pays_ned_2016,mo).
patient_(mo_pays_ned_2016,ned).
purpose_(mo_pays_ned_2016,ned_drives_for_mo).
amount_(mo_pays_ned_2016,6000).
start_(mo_pays_ned_2016,"2016-12-15").
payment_(mo_pays_ned_jan).
agent_(mo_pays_ned_jan,mo).
patient_(mo_pays_ned_jan,ned).
purpose_(mo_pays_ned_jan,ned_drives_for_mo).
amount_(mo_pays_ned_jan,6000).
start_(mo_pays_ned_jan,"2017-01-15").
payment_(mo_pays_ned_jun).
agent_(mo_pays_ned_jun,mo).
patient_(mo_pays_ned_jun,ned).
purpose_(mo_pays_ned_jun,ned_drives_for_mo).
amount_(mo_pays_ned_jun,3000).
start_(mo_pays_ned_jun,"2017-06-30").
income_(mo_income_2017).
agent_(mo_income_2017,mo).
amount_(mo_income_2017,30000).
start_(mo_income_2017,"2017-12-31").

% Test
:- tax(mo,2017,4547).
:- halt.
