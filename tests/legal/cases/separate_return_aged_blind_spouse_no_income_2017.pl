% Text
% Cal (born June 6th, 1951) and Dee (born January 20th, 1947) have been married since 1970 and do
% not file jointly. Dee, blind since 2012, has no income; Cal's pension for 2017 was $50000. Neither
% itemizes.
% By hand: Cal is married (§7703): §1(d). Basic standard deduction $3,000; additional amounts of $600
% (married): Cal aged, Dee aged and blind with the §151(b) exemption allowable for her: $1,800.
% Exemptions for Cal and Dee $4,000. Taxable $41,200: §1(d)(ii) $2,767.50 + 28% of $22,750 =
% $9,137.50, rounded up.

% Question
% How much tax does Cal have to pay in 2017? $9138

% Facts
:- [statutes/prolog/init].
birth_(cal_born).
agent_(cal_born,cal).
start_(cal_born,"1951-06-06").
birth_(dee_born).
agent_(dee_born,dee).
start_(dee_born,"1947-01-20").
marriage_(cal_dee).
agent_(cal_dee,cal).
agent_(cal_dee,dee).
start_(cal_dee,"1970-07-07").
blindness_(dee_blind).
agent_(dee_blind,dee).
start_(dee_blind,"2012-03-03").
payment_(cal_pension).
patient_(cal_pension,cal).
amount_(cal_pension,50000).
start_(cal_pension,"2017-12-31").

% Test
:- tax(cal,2017,9138).
:- halt.
