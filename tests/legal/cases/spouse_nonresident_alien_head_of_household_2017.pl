% Text
% Rosa married Sven on 2009-05-16. Sven has always been a nonresident alien and lives in Oslo,
% where he earned $30,000 in 2017. Rosa's son Tim was born on 2010-02-01; he lives with Rosa
% in her house on Birch Lane, whose costs ($12,000 in 2017) Rosa pays alone. Rosa earned
% $70,000 in 2017 and takes the standard deduction.
% By hand: §2(b)(2)(B): Rosa is not married at the close of 2017 (her spouse is a nonresident
% alien), and Tim is her qualifying child, so she is a head of household (§2(b)(1)(A)(i)):
% §1(b). Basic standard deduction $4,400; exemptions for Rosa and Tim, $4,000 (Sven has income).
% Taxable income $61,600; §1(b)(ii): $4,440 + 28% of $32,000 = $13,400.

% Question
% How much tax does Rosa have to pay in 2017? $13400

% Facts
:- [statutes/prolog/init].
marriage_(rosa_sven).
agent_(rosa_sven,rosa).
agent_(rosa_sven,sven).
start_(rosa_sven,"2009-05-16").
nonresident_alien_(sven_nra).
agent_(sven_nra,sven).
income_(sven_pay).
agent_(sven_pay,sven).
amount_(sven_pay,30000).
start_(sven_pay,"2017-12-31").
son_(tim_son).
agent_(tim_son,tim).
patient_(tim_son,rosa).
start_(tim_son,"2010-02-01").
residence_(rosa_birch).
agent_(rosa_birch,rosa).
agent_(rosa_birch,tim).
patient_(rosa_birch,birch_lane_house).
start_(rosa_birch,"2010-02-01").
payment_(rosa_house_costs).
agent_(rosa_house_costs,rosa).
purpose_(rosa_house_costs,birch_lane_house).
amount_(rosa_house_costs,12000).
start_(rosa_house_costs,"2017-03-01").
payment_(rosa_pay).
patient_(rosa_pay,rosa).
amount_(rosa_pay,70000).
start_(rosa_pay,"2017-12-31").

% Test
:- tax(rosa,2017,13400).
:- halt.
