% Text
% Gwen was born on October 10th, 1950 and has never married. She was paid $30000 in 2018 and
% takes the standard deduction.
% By hand: $12,000 (§63(c)(7)(ii)) + $750 (§63(f)(1)(A), (f)(3)) = $12,750; exemption amount zero
% (§151(d)(5)); taxable income $17,250: §1(c)(i), 15% = $2,587.50, $2,588.

% Question
% How much tax does gwen have to pay in 2018? $2588

% Facts
:- [statutes/prolog/init].
birth_(gwen_born).
agent_(gwen_born,gwen).
start_(gwen_born,"1950-10-10").
payment_(gwen_paid).
patient_(gwen_paid,gwen).
amount_(gwen_paid,30000).
start_(gwen_paid,"2018-12-31").

% Test
:- tax(gwen,2018,2588).
:- halt.
