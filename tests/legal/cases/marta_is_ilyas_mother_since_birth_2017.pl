% Text
% Marta has been the mother of Ilya since February 14th, 2001. Marta, who never married, and
% Ilya have lived together in a flat on Birch Lane since 2012; Marta pays its rent, $9,000 in
% 2017. Marta's employer paid her $60,000 in 2017. Ilya earned $3,000 at a
% summer job in 2017.
% (The kinship is stated from the mother's side only, mother_ with Marta as agent: the start of
% the relationship is Ilya's birth, as it is when "Ilya is Marta's son, born on ..." is stated
% with son_.)
% By hand: Ilya is 16 at the end of 2017, younger than Marta, lives with her all year: her
% qualifying child (§152(c)), so her dependent, and she maintains the household that is their
% home: head of household (§2(b)(1)(A)(i)). §63(c)(2)(B): $4,400; two exemptions of $2,000
% (§151(b), (c)). Taxable income $60,000 - $4,400 - $4,000 = $51,600; §1(b)(ii): $4,440 + 28%
% of $22,000 = $10,600. (Ilya's income rules him out as a qualifying relative, §152(d)(1)(B):
% only his age makes him a dependent.) Before, with no age for Ilya, Marta was single with one
% exemption: $55,000, §1(c)(iii): $12,572.

% Question
% How much income tax does Marta owe for 2017? $10600

% Facts
:- [statutes/prolog/init].
mother_(marta_mother_of_ilya).
agent_(marta_mother_of_ilya,marta).
patient_(marta_mother_of_ilya,ilya).
start_(marta_mother_of_ilya,"2001-02-14").
residence_(birch_lane_home).
agent_(birch_lane_home,marta).
agent_(birch_lane_home,ilya).
patient_(birch_lane_home,birch_lane_flat).
start_(birch_lane_home,"2012-01-01").
payment_(marta_rent_2017).
agent_(marta_rent_2017,marta).
purpose_(marta_rent_2017,birch_lane_flat).
amount_(marta_rent_2017,9000).
start_(marta_rent_2017,"2017-06-30").
payment_(marta_wages_2017).
agent_(marta_wages_2017,marta_employer).
patient_(marta_wages_2017,marta).
amount_(marta_wages_2017,60000).
start_(marta_wages_2017,"2017-12-31").
payment_(ilya_summer_job_pay).
agent_(ilya_summer_job_pay,ice_cream_shop).
patient_(ilya_summer_job_pay,ilya).
amount_(ilya_summer_job_pay,3000).
start_(ilya_summer_job_pay,"2017-08-31").

% Test
:- tax(marta,2017,10600).
:- halt.
