% Text
% Quin was born on March 3rd, 1948, has never married and has been blind since 2010. Quin was
% paid $40000 in 2017 and takes the standard deduction.
% By hand: §63(f)(1)(A) and (f)(2)(A), each $750 as Quin is not married (§63(f)(3)): standard
% deduction $3,000 + $1,500 = $4,500; exemption $2,000; taxable income $33,500:
% §1(c)(ii), $3,315 + 28% of $11,400 = $6,507.

% Question
% How much tax does quin have to pay in 2017? $6507

% Facts
:- [statutes/prolog/init].
birth_(quin_born).
agent_(quin_born,quin).
start_(quin_born,"1948-03-03").
blindness_(quin_blind).
agent_(quin_blind,quin).
start_(quin_blind,"2010-01-01").
payment_(quin_paid).
patient_(quin_paid,quin).
amount_(quin_paid,40000).
start_(quin_paid,"2017-12-31").

% Test
:- tax(quin,2017,6507).
:- halt.
