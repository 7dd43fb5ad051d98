% Text
% Gus has never married; his son Hank, born August 8th, 2008, lives with him in his house, whose
% costs Gus pays. In 2018 Gus earned $400000 and gave $40000 to charity, which he deducts.
% By hand: head of household; §68 does not apply in 2018 (§68(f)), the exemption amount is zero
% (§151(d)(5)): taxable $360,000, §1(b)(v) $77,485 + 39.6% of $110,000 = $121,045.

% Question
% How much tax does Gus have to pay in 2018? $121045

% Facts
:- [statutes/prolog/init].
birth_(gus_born).
agent_(gus_born,gus).
start_(gus_born,"1970-01-01").
son_(hank_son_of_gus).
agent_(hank_son_of_gus,hank).
patient_(hank_son_of_gus,gus).
start_(hank_son_of_gus,"2008-08-08").
residence_(gus_home).
agent_(gus_home,gus).
patient_(gus_home,gus_house).
start_(gus_home,"2008-01-01").
residence_(hank_home).
agent_(hank_home,hank).
patient_(hank_home,gus_house).
start_(hank_home,"2008-08-08").
payment_(gus_upkeep).
agent_(gus_upkeep,gus).
purpose_(gus_upkeep,gus_house).
amount_(gus_upkeep,30000).
start_(gus_upkeep,"2018-02-01").
income_(gus_income).
agent_(gus_income,gus).
amount_(gus_income,400000).
start_(gus_income,"2018-12-31").
deduction_(gus_charity).
agent_(gus_charity,gus).
amount_(gus_charity,40000).
start_(gus_charity,"2018-11-11").

% Test
:- tax(gus,2018,121045).
:- halt.
