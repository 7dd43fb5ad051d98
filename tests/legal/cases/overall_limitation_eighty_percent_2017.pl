% Text
% Tia has never married. She was paid $1000000 in 2017 and has itemized deductions of $10000.
% By hand: AGI exceeds $250,000 (§68(b)(1)(C)) by $750,000; 3% of it is $22,500, more than 80%
% of $10,000 = $8,000 (§68(a)(2)): itemized deductions $2,000. §151(d)(3): 600%, capped at
% 100%: no exemption. Taxable income $998,000: §1(c)(v), $79,772 + 39.6% of $748,000 =
% $376,980.

% Question
% How much tax does tia have to pay in 2017? $375980

% Facts
:- [statutes/prolog/init].
payment_(tia_paid).
patient_(tia_paid,tia).
amount_(tia_paid,1000000).
start_(tia_paid,"2017-12-31").
deduction_(tia_itemizes).
agent_(tia_itemizes,tia).
amount_(tia_itemizes,10000).
start_(tia_itemizes,"2017-12-31").

% Test
:- tax(tia,2017,375980).
:- halt.
