% Text
% Carla and Dmitri married on 2008-10-04 and file separate returns for 2017. Their daughter
% Dora, born 2009-03-30, lives with Carla in Carla's house, whose costs ($13200 in 2017) Carla
% pays alone. Dmitri lived in the house until June 30th, 2017 and in a flat of his own from July 1st,
% 2017. Carla earned $45000 in 2017 and Dmitri $50000; neither itemizes.
% By hand: the last 6 months of 2017 run from July 1st to December 31st; Dmitri was no member
% of Carla's household on any of those days (§7703(b)(3)). Carla is married (§7703(a)), files
% a separate return, keeps as her home a household that is all year the principal place of
% abode of Dora, her qualifying child, for whom she is entitled to a §151 deduction ((b)(1)),
% and furnishes all its cost ((b)(2)): she is not considered as married, so §1(c) applies, not
% §1(d). Head of household? §2(b)(1) asks whether she is married at the close of the year,
% under §2(b)(2), which does not refer to §7703(b): she is married, so no. Standard deduction
% $3,000 (§63(c)(2)(C)); exemptions Carla and Dora $4,000 (Dmitri has income: no §151(b)
% spouse exemption). Taxable income $38,000; §1(c)(ii): $3,315 + 28% of ($38,000 - $22,100)
% = $3,315 + $4,452 = $7,767.

% Question
% How much tax does Carla have to pay in 2017? $7767

% Facts
:- [statutes/prolog/init].
marriage_(carla_dmitri).
agent_(carla_dmitri,carla).
agent_(carla_dmitri,dmitri).
start_(carla_dmitri,"2008-10-04").
daughter_(dora_daughter).
agent_(dora_daughter,dora).
patient_(dora_daughter,carla).
patient_(dora_daughter,dmitri).
start_(dora_daughter,"2009-03-30").
residence_(carla_house_home).
agent_(carla_house_home,carla).
agent_(carla_house_home,dora).
patient_(carla_house_home,carla_house).
start_(carla_house_home,"2009-03-30").
residence_(dmitri_house_home).
agent_(dmitri_house_home,dmitri).
patient_(dmitri_house_home,carla_house).
start_(dmitri_house_home,"2009-03-30").
end_(dmitri_house_home,"2017-06-30").
residence_(dmitri_flat_home).
agent_(dmitri_flat_home,dmitri).
patient_(dmitri_flat_home,dmitri_flat).
start_(dmitri_flat_home,"2017-07-01").
payment_(carla_house_costs).
agent_(carla_house_costs,carla).
purpose_(carla_house_costs,carla_house).
amount_(carla_house_costs,13200).
start_(carla_house_costs,"2017-02-01").
income_(carla_wages).
agent_(carla_wages,carla).
amount_(carla_wages,45000).
start_(carla_wages,"2017-12-31").
income_(dmitri_wages).
agent_(dmitri_wages,dmitri).
amount_(dmitri_wages,50000).
start_(dmitri_wages,"2017-12-31").

% Test
:- tax(carla,2017,7767).
:- halt.
