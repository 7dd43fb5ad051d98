% Text
% Rhea has never been married. Her son Sami, born 1996-05-01, has always lived with her in her
% house on Elm Row, whose costs ($9,000 in 2017) she pays alone. Sami married Tara on
% 2016-06-01; Tara died on 2017-03-10. Sami and Tara filed a joint return for 2017 only to
% claim a refund of tax withheld from Tara's pay. Sami has no income in 2017; Rhea earned
% $50,000. Rhea takes the standard deduction.
% By hand: §152(c)(1)(E) leaves out a joint return filed "only for a claim of refund", so Sami
% (21, same abode all year) is still Rhea's qualifying child. He is not married at the close of
% 2017 (Tara died), so §2(b)(1)(A)(i)(I) does not hold and the exception of (A)(i) does not
% reach him: Rhea is a head of household. §152(b)(2) has no such carve-out: Sami made a joint
% return, so he is nobody's dependent and Rhea has her own exemption only. Standard deduction
% $4,400 (§63(c)(2)(B)), exemption $2,000: taxable income $43,600; §1(b)(ii): $4,440 + 28% of
% $14,000 = $8,360.

% Question
% How much tax does Rhea have to pay in 2017? $8360

% Facts
:- [statutes/prolog/init].
son_(sami_son).
agent_(sami_son,sami).
patient_(sami_son,rhea).
start_(sami_son,"1996-05-01").
birth_(sami_born).
agent_(sami_born,sami).
start_(sami_born,"1996-05-01").
residence_(elm_home).
agent_(elm_home,rhea).
agent_(elm_home,sami).
patient_(elm_home,elm_row_house).
start_(elm_home,"1996-05-01").
marriage_(sami_tara).
agent_(sami_tara,sami).
agent_(sami_tara,tara).
start_(sami_tara,"2016-06-01").
death_(tara_died).
agent_(tara_died,tara).
start_(tara_died,"2017-03-10").
joint_return_(sami_tara_refund_return).
agent_(sami_tara_refund_return,sami).
agent_(sami_tara_refund_return,tara).
purpose_(sami_tara_refund_return,"claim of refund").
start_(sami_tara_refund_return,"2017-01-01").
end_(sami_tara_refund_return,"2017-12-31").
payment_(rhea_house_costs).
agent_(rhea_house_costs,rhea).
purpose_(rhea_house_costs,elm_row_house).
amount_(rhea_house_costs,9000).
start_(rhea_house_costs,"2017-02-01").
income_(rhea_wages).
agent_(rhea_wages,rhea).
amount_(rhea_wages,50000).
start_(rhea_wages,"2017-12-31").

% Test
:- tax(rhea,2017,8360).
:- halt.
