% Text
% Ada married Ben on June 20th, 2015. They filed joint returns for 2017 and for 2018. Ada
% was paid $60000 in 2017 and $70000 in 2018; Ben earned nothing in 2017 and $30000 in 2018.
% Neither itemizes.
% By hand: 2018: joint income $100,000, basic standard deduction 200% of $12,000 = $24,000
% (§63(c)(7)), exemption amount zero (§151(d)(5)): taxable $76,000, §1(a)(ii) $5,535 + 28% of
% $39,100 = $16,483.

% Question
% How much tax does Ada have to pay in 2018? $16483

% Facts
:- [statutes/prolog/init].
marriage_(ada_weds_ben).
agent_(ada_weds_ben,ada).
patient_(ada_weds_ben,ben).
start_(ada_weds_ben,"2015-06-20").
joint_return_(joint_2017).
agent_(joint_2017,ada).
patient_(joint_2017,ben).
start_(joint_2017,"2017-01-01").
end_(joint_2017,"2017-12-31").
joint_return_(joint_2018).
agent_(joint_2018,ada).
agent_(joint_2018,ben).
start_(joint_2018,"2018-01-01").
end_(joint_2018,"2018-12-31").
payment_(ada_paid_2017).
patient_(ada_paid_2017,ada).
amount_(ada_paid_2017,60000).
start_(ada_paid_2017,"2017-12-29").
payment_(ada_paid_2018).
patient_(ada_paid_2018,ada).
amount_(ada_paid_2018,70000).
start_(ada_paid_2018,"2018-12-28").
income_(ben_income_2018).
agent_(ben_income_2018,ben).
amount_(ben_income_2018,30000).
start_(ben_income_2018,"2018-12-31").

% Test
:- tax(ada,2018,16483).
:- halt.
