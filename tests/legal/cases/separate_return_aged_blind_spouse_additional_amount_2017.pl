% Text
% Cal (born June 6th, 1951) and Dee (born January 20th, 1947) have been married since 1970 and do
% not file jointly. Dee, blind since 2012, has no income; Cal's pension for 2017 was $50000.
% By hand: $600 for Cal (aged), $600 for Dee aged and $600 for Dee blind (§63(f)(1)(B), (2)(B)):
% additional standard deduction $1,800.

% Question
% Under section 63(c)(3), Cal's additional standard deduction in 2017 is equal to $1800. Entailment

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
:- s63_c_3(cal,1800,2017).
:- halt.
