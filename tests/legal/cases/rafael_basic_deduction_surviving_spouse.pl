% Text
% Rafael and Sofia married on April 4th, 2004. Sofia died on May 10th, 2017. Their son Tomas,
% born on January 15th, 2010, has lived with Rafael in the family house all along, and Rafael
% pays its costs ($11000 in 2018). Rafael has not remarried. In 2017 he was paid $70000 and in
% 2018 $90000; he takes the standard deduction.
% By hand: Rafael is a surviving spouse for 2018 (§2(a)), so his basic standard deduction is
% the one of (c)(2)(A)(ii).

% Question
% Section 63(c)(2)(A)(ii) applies to Rafael for the year 2018. Entailment

% Facts
:- [statutes/prolog/init].
marriage_(rafael_and_sofia).
agent_(rafael_and_sofia,rafael).
agent_(rafael_and_sofia,sofia).
start_(rafael_and_sofia,"2004-04-04").
death_(sofia_dies).
agent_(sofia_dies,sofia).
start_(sofia_dies,"2017-05-10").
son_(tomas_is_son).
agent_(tomas_is_son,tomas).
patient_(tomas_is_son,rafael).
patient_(tomas_is_son,sofia).
start_(tomas_is_son,"2010-01-15").
residence_(family_house_life).
agent_(family_house_life,rafael).
agent_(family_house_life,tomas).
patient_(family_house_life,family_house).
start_(family_house_life,"2010-01-15").
payment_(house_costs_2018).
agent_(house_costs_2018,rafael).
purpose_(house_costs_2018,family_house).
amount_(house_costs_2018,11000).
start_(house_costs_2018,"2018-06-30").
payment_(rafael_pay_2017).
patient_(rafael_pay_2017,rafael).
amount_(rafael_pay_2017,70000).
start_(rafael_pay_2017,"2017-12-31").
payment_(rafael_pay_2018).
patient_(rafael_pay_2018,rafael).
amount_(rafael_pay_2018,90000).
start_(rafael_pay_2018,"2018-12-31").

% Test
:- s63_c_2_A_ii(rafael,2018).
:- halt.
