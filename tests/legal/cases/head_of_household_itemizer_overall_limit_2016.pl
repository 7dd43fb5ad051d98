% Text
% Wes, never married, lives with his daughter Xena (born 2004-05-05) in his house on Oak Avenue,
% whose costs he alone pays ($24,000 in 2016). In 2016 Wes earned $300,000 and itemizes $30,000
% of deductions (paid on 2016-10-10).
% By hand: head of household (§2(b)(1)(A)(i)). §68(b)(1)(B) applicable amount $275,000, excess
% $25,000: reduction the lesser of 3% ($750) and 80% of $30,000: $750, so $29,250 allowed.
% §151(d)(3)(B): $25,000 / $2,500 = 10 steps, 20%: exemption amount $1,600, two exemptions
% $3,200. Taxable income $300,000 - $29,250 - $3,200 = $267,550; §1(b)(v): $77,485 + 39.6% of
% $17,550 = $84,434.80, i.e. $84,435.

% Question
% How much tax does Wes have to pay in 2016? $84435

% Facts
:- [statutes/prolog/init].
daughter_(xena_daughter).
agent_(xena_daughter,xena).
patient_(xena_daughter,wes).
start_(xena_daughter,"2004-05-05").
residence_(oak_home).
agent_(oak_home,wes).
agent_(oak_home,xena).
patient_(oak_home,oak_avenue_house).
start_(oak_home,"2004-05-05").
payment_(wes_house_costs).
agent_(wes_house_costs,wes).
purpose_(wes_house_costs,oak_avenue_house).
amount_(wes_house_costs,24000).
start_(wes_house_costs,"2016-04-01").
income_(wes_salary).
agent_(wes_salary,wes).
amount_(wes_salary,300000).
start_(wes_salary,"2016-12-31").
deduction_(wes_itemized).
agent_(wes_itemized,wes).
amount_(wes_itemized,30000).
start_(wes_itemized,"2016-10-10").

% Test
:- tax(wes,2016,84435).
:- halt.
