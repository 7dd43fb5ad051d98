% Text
% Rosa married Sven on 2009-05-16. Sven has always been a nonresident alien and lives in Oslo,
% where he earned $30,000 in 2017. Rosa's son Tim, born 2010-02-01, lives with her.
% By hand: at some time during 2017 (all of it) Rosa's spouse is a nonresident alien, so she is
% considered not married at the close of 2017: §2(b)(2)(B). The question names the marriage and
% the spouse, as the dataset's §2(b)(2) questions do; our node takes the spouses.

% Question
% Section 2(b)(2)(B) applies to Rosa's marriage to Sven for the year 2017. Entailment

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
:- s2_b_2_B(rosa,rosa_sven,sven,2017).
:- halt.
