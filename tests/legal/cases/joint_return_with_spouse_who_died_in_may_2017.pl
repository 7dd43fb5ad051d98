% Text
% Pete's wife Quinn died on May 5th, 2017, after nearly eighteen years of marriage. She had been paid
% $10000 on April 28th, 2017; Pete was paid $70000 in 2017. Pete made a joint return for 2017 with her.
% They do not itemize.
% By hand: Pete's marital status is determined at Quinn's death (§7703(a)(1)): married, and the joint
% return is theirs (§1(a)(1)). $80,000 - $6,000 - two exemptions $4,000 = $70,000: §1(a)(ii) $5,535 +
% 28% of $33,100 = $14,803.

% Question
% How much tax does Pete have to pay in 2017? $14803

% Facts
:- [statutes/prolog/init].
marriage_(pete_quinn).
agent_(pete_quinn,pete).
patient_(pete_quinn,quinn).
start_(pete_quinn,"1999-09-19").
death_(quinn_dies).
agent_(quinn_dies,quinn).
start_(quinn_dies,"2017-05-05").
joint_return_(pete_quinn_joint_2017).
agent_(pete_quinn_joint_2017,pete).
patient_(pete_quinn_joint_2017,quinn).
start_(pete_quinn_joint_2017,"2017-01-01").
end_(pete_quinn_joint_2017,"2017-12-31").
payment_(pete_pay).
patient_(pete_pay,pete).
amount_(pete_pay,70000).
start_(pete_pay,"2017-12-31").
payment_(quinn_pay).
patient_(quinn_pay,quinn).
amount_(quinn_pay,10000).
start_(quinn_pay,"2017-04-28").

% Test
:- tax(pete,2017,14803).
:- halt.
