% Text
% Abel is unmarried. His son Ben, born on June 1st, 1992, lives with him in Abel's house on
% Birch Lane all year and has no income. Abel pays the whole cost of the house ($12000 in 2017)
% and earned $45000 in 2017. He takes the standard deduction.
% By hand: Ben is 25 at the end of 2017, so no qualifying child (§152(c)(3)); he is Abel's
% qualifying relative (§152(d): a child, no income, nobody's qualifying child), hence his
% dependent. Abel is a head of household by §2(b)(1)(A)(ii): basic standard deduction $4,400;
% exemptions $2,000 for Abel and $2,000 for Ben; taxable income $36,600; §1(b)(ii): $4,440 +
% 28% of $7,000 = $6,400.

% Question
% How much tax does Abel have to pay in 2017? $6400

% Facts
:- [statutes/prolog/init].
son_(ben_is_abels_son).
agent_(ben_is_abels_son,ben).
patient_(ben_is_abels_son,abel).
start_(ben_is_abels_son,"1992-06-01").
residence_(birch_lane_home).
agent_(birch_lane_home,abel).
agent_(birch_lane_home,ben).
patient_(birch_lane_home,birch_lane_house).
start_(birch_lane_home,"1999-01-01").
payment_(abel_house_costs).
agent_(abel_house_costs,abel).
purpose_(abel_house_costs,birch_lane_house).
amount_(abel_house_costs,12000).
start_(abel_house_costs,"2017-10-01").
payment_(abel_salary).
patient_(abel_salary,abel).
amount_(abel_salary,45000).
start_(abel_salary,"2017-12-31").

% Test
:- tax(abel,2017,6400).
:- halt.
