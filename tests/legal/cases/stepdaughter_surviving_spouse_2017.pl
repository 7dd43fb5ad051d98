% Text
% Rhea married Sam on May 5th, 2010. Sam's daughter Tia, from an earlier marriage, was born on
% August 8th, 2005 and has lived with Rhea and Sam in Rhea's house since the wedding; Rhea pays all
% of its costs ($12000 in 2017). Sam died on June 1st, 2016. Tia has no income. Rhea was paid
% $60000 in 2017 and takes the standard deduction.
% By hand: Tia is Rhea's stepdaughter; she lives in Rhea's household all year, has no income and
% is nobody's qualifying child (her father died): a dependent of Rhea (§152(d)(2)(H); she was
% never Rhea's spouse). Sam died in 2016, one of the two preceding years, a joint return could
% have been made for 2016, Rhea has not remarried: surviving spouse (§2(a)). Basic standard
% deduction 200% of $3,000 = $6,000 (§63(c)(2)(A)(ii)); exemptions $4,000; taxable income
% $50,000: §1(a)(ii), $5,535 + 28% of $13,100 = $9,203.

% Question
% How much tax does rhea have to pay in 2017? $9203

% Facts
:- [statutes/prolog/init].
marriage_(rhea_and_sam).
agent_(rhea_and_sam,rhea).
agent_(rhea_and_sam,sam).
start_(rhea_and_sam,"2010-05-05").
daughter_(tia_is_sams_daughter).
agent_(tia_is_sams_daughter,tia).
patient_(tia_is_sams_daughter,sam).
birth_(tia_born).
agent_(tia_born,tia).
start_(tia_born,"2005-08-08").
residence_(rhea_home).
agent_(rhea_home,rhea).
patient_(rhea_home,rheas_house).
start_(rhea_home,"2008-01-01").
residence_(tia_home).
agent_(tia_home,tia).
patient_(tia_home,rheas_house).
start_(tia_home,"2010-05-05").
payment_(rhea_keeps_house).
agent_(rhea_keeps_house,rhea).
purpose_(rhea_keeps_house,rheas_house).
amount_(rhea_keeps_house,12000).
start_(rhea_keeps_house,"2017-06-30").
death_(sam_dies).
agent_(sam_dies,sam).
start_(sam_dies,"2016-06-01").
end_(sam_dies,"2016-06-01").
payment_(rhea_paid).
patient_(rhea_paid,rhea).
amount_(rhea_paid,60000).
start_(rhea_paid,"2017-12-31").

% Test
:- tax(rhea,2017,9203).
:- halt.
