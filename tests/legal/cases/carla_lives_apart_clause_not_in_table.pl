% Text
% Carla and Dmitri married on 2008-10-04 and are still married, but Dmitri has lived in a flat
% of his own since 2015-05-01. Their daughter Dora, born 2009-03-30, lives with Carla in Carla's
% house, whose costs ($13,200 in 2017) Carla pays alone. Carla earned $45,000 in 2017 and
% Dmitri $50,000; they file separate returns.
% By hand: Carla is married (§7703(a)), files a separate return and keeps as her home a
% household that is Dora's principal place of abode all year; Dora is her qualifying child, so
% Carla is entitled to a §151 deduction for her: §7703(b)(1). The question names the child
% before the house; our node takes the house as a place and the child as an individual.

% Question
% Section 7703(b)(1) applies to Carla with respect to Dora and the house for the year 2017. Entailment

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
residence_(dmitri_flat_home).
agent_(dmitri_flat_home,dmitri).
patient_(dmitri_flat_home,dmitri_flat).
start_(dmitri_flat_home,"2015-05-01").
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
:- s7703_b_1(carla,dora,carla_house,2017).
:- halt.
