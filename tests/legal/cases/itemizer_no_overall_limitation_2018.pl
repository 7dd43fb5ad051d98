% Text
% Tia has never married. She was paid $400000 in 2018 and has itemized deductions of $50000.
% By hand: §68 does not apply to 2018 (§68(f)); the exemption amount is zero (§151(d)(5)).
% Taxable income $400,000 - $50,000 = $350,000: §1(c)(v), $79,772 + 39.6% of $100,000 =
% $119,372.

% Question
% How much tax does tia have to pay in 2018? $119372

% Facts
:- [statutes/prolog/init].
payment_(tia_paid).
patient_(tia_paid,tia).
amount_(tia_paid,400000).
start_(tia_paid,"2018-12-31").
deduction_(tia_itemizes).
agent_(tia_itemizes,tia).
amount_(tia_itemizes,50000).
start_(tia_itemizes,"2018-12-31").

% Test
:- tax(tia,2018,119372).
:- halt.
