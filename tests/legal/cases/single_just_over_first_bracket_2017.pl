% Text
% Ben has never married. He was paid $27200 in 2017 and takes the standard deduction.
% By hand: taxable income $27,200 - $3,000 - $2,000 = $22,200, over $22,100: §1(c)(ii),
% $3,315 + 28% of $100 = $3,343.

% Question
% How much tax does ben have to pay in 2017? $3343

% Facts
:- [statutes/prolog/init].
payment_(ben_paid).
patient_(ben_paid,ben).
amount_(ben_paid,27200).
start_(ben_paid,"2017-12-31").

% Test
:- tax(ben,2017,3343).
:- halt.
