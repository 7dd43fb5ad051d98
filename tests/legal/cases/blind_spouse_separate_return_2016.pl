% Text
% Walt and Xena have been married since 1995 and file separately for 2016. Xena, born on
% July 7th, 1970, has been blind since March 2nd, 2001 and has no income; nobody else claims
% her. Walt was paid $50000 in 2016 and takes the standard deduction.
% By hand, Walt's return: exemptions $2,000 for himself and $2,000 for his spouse (§151(b): no
% joint return, she has no gross income and is nobody's dependent); basic standard deduction
% $3,000 (§63(c)(2)(C)) plus $600 for a blind spouse for whom he has a §151(b) exemption
% (§63(f)(2)(B); married, so not $750); taxable income $50,000 - $3,600 - $4,000 = $42,400;
% §1(d)(ii): $2,767.50 + 28% of $23,950 = $9,473.50, $9,474 in whole dollars.

% Question
% How much tax does Walt have to pay in 2016? $9474

% Facts
:- [statutes/prolog/init].
marriage_(walt_and_xena).
agent_(walt_and_xena,walt).
agent_(walt_and_xena,xena).
start_(walt_and_xena,"1995-09-30").
birth_(xena_born).
agent_(xena_born,xena).
start_(xena_born,"1970-07-07").
blindness_(xena_blind).
agent_(xena_blind,xena).
start_(xena_blind,"2001-03-02").
payment_(walt_salary).
patient_(walt_salary,walt).
amount_(walt_salary,50000).
start_(walt_salary,"2016-11-30").

% Test
:- tax(walt,2016,9474).
:- halt.
