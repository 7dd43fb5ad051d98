% Text
% Yolanda has never been married. Her son Zack, born 1997-02-02, has always lived with her in her
% flat on Quay Street, whose costs ($11,000 in 2017) she pays alone. Zack married Ann on
% 2017-06-01; Ann lives with her parents and earned $20,000 in 2017 (so she is
% nobody's qualifying relative), and Zack and Ann do not file a joint return. Zack
% earned $5,000 in 2017 and Yolanda $50,000. Yolanda takes the standard deduction.
% By hand: Zack (20, same abode all year, no joint return) is Yolanda's qualifying child. He is
% married at the close of 2017 (§2(b)(1)(A)(i)(I)), but he is not "not a dependent by reason of
% §152(b)(2)" (he made no joint return), so the exception needs both and does not apply:
% Yolanda is a head of household. Standard deduction $4,400, exemptions $4,000: taxable income
% $41,600; §1(b)(ii): $4,440 + 28% of $12,000 = $7,800.

% Question
% How much tax does Yolanda have to pay in 2017? $7800

% Facts
:- [statutes/prolog/init].
son_(zack_son).
agent_(zack_son,zack).
patient_(zack_son,yolanda).
start_(zack_son,"1997-02-02").
birth_(zack_born).
agent_(zack_born,zack).
start_(zack_born,"1997-02-02").
residence_(quay_home).
agent_(quay_home,yolanda).
agent_(quay_home,zack).
patient_(quay_home,quay_street_flat).
start_(quay_home,"1997-02-02").
marriage_(zack_ann).
agent_(zack_ann,zack).
agent_(zack_ann,ann).
start_(zack_ann,"2017-06-01").
payment_(yolanda_flat_costs).
agent_(yolanda_flat_costs,yolanda).
purpose_(yolanda_flat_costs,quay_street_flat).
amount_(yolanda_flat_costs,11000).
start_(yolanda_flat_costs,"2017-01-15").
income_(ann_wages).
agent_(ann_wages,ann).
amount_(ann_wages,20000).
start_(ann_wages,"2017-12-31").
income_(zack_wages).
agent_(zack_wages,zack).
amount_(zack_wages,5000).
start_(zack_wages,"2017-12-31").
income_(yolanda_wages).
agent_(yolanda_wages,yolanda).
amount_(yolanda_wages,50000).
start_(yolanda_wages,"2017-12-31").

% Test
:- tax(yolanda,2017,7800).
:- halt.
