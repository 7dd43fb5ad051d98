% Text
% Una's husband Vic died on February 2nd, 2017. Una married Walt on November 25th, 2017, and they
% filed a joint return for 2017. Una earned $52000 and Walt $23000 in 2017. They do not itemize.
% By hand: Una is married to Walt at the close of 2017 and makes a joint return with him (§1(a)(1),
% §7703(a)(1)). Income $75,000 minus $6,000 and two exemptions $4,000: $65,000, §1(a)(ii) $5,535 +
% 28% of $28,100 = $13,403.

% Question
% How much tax does Una have to pay in 2017? $13403

% Facts
:- [statutes/prolog/init].
marriage_(una_vic_marriage).
agent_(una_vic_marriage,una).
agent_(una_vic_marriage,vic).
start_(una_vic_marriage,"2001-01-01").
death_(vic_dies).
agent_(vic_dies,vic).
start_(vic_dies,"2017-02-02").
marriage_(una_walt_marriage).
agent_(una_walt_marriage,walt).
patient_(una_walt_marriage,una).
start_(una_walt_marriage,"2017-11-25").
joint_return_(una_walt_joint).
agent_(una_walt_joint,una).
patient_(una_walt_joint,walt).
start_(una_walt_joint,"2017-01-01").
end_(una_walt_joint,"2017-12-31").
income_(una_wages).
agent_(una_wages,una).
amount_(una_wages,52000).
start_(una_wages,"2017-12-31").
income_(walt_wages).
agent_(walt_wages,walt).
amount_(walt_wages,23000).
start_(walt_wages,"2017-12-31").

% Test
:- tax(una,2017,13403).
:- halt.
