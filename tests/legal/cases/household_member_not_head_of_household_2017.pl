% Text
% Pat, who has never been married, shares a flat on Elm Street with a friend, Quinn, who is no
% relative of Pat. Both have lived there since March 1st, 2012. Quinn had no income in 2017.
% Pat pays the whole rent of the flat, $10,800 in 2017, and earned $50,000 that year. Pat
% takes the standard deduction.
% By hand: Quinn is Pat's qualifying relative under §152(d)(2)(H) only (same abode all year,
% member of Pat's household, no income), so Pat has two exemptions ($4,000), but §2(b)(3)(B)
% bars head of household status by reason of Quinn. §1(c), standard deduction $3,000:
% taxable income $43,000; §1(c)(ii): $3,315 + 28% of $20,900 = $9,167.

% Question
% How much tax does Pat have to pay in 2017? $9167

% Facts
:- [statutes/prolog/init].
residence_(pat_at_elm).
agent_(pat_at_elm,pat).
patient_(pat_at_elm,elm_street_flat).
start_(pat_at_elm,"2012-03-01").
residence_(quinn_at_elm).
agent_(quinn_at_elm,quinn).
patient_(quinn_at_elm,elm_street_flat).
start_(quinn_at_elm,"2012-03-01").
payment_(pat_rent).
agent_(pat_rent,pat).
purpose_(pat_rent,elm_street_flat).
amount_(pat_rent,10800).
start_(pat_rent,"2017-06-30").
payment_(pat_wages).
patient_(pat_wages,pat).
amount_(pat_wages,50000).
start_(pat_wages,"2017-12-15").

% Test
:- tax(pat,2017,9167).
:- halt.
