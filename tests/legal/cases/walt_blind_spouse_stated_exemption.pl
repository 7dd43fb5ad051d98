% Text
% Walt and Xena have been married since 1995 and file separately for 2016. Xena, born on
% July 7th, 1970, has been blind since March 2nd, 2001 and has no income; nobody else claims
% her. Walt was paid $50000 in 2016 and takes the standard deduction.
% By hand: Xena is blind at the close of 2016 and, as the case states, Walt has the §151(b)
% exemption for her (stated, an assumption of the proof).

% Question
% Section 63(f)(2)(B) applies to Walt for the year 2016. Entailment

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
s151_b_applies(walt,xena,2016).

% Test
:- s63_f_2_B(walt,2016).
:- halt.
