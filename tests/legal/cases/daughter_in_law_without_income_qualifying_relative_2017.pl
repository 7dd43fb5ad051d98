% Text
% Yolanda has never been married. Her son Zack, born 1997-02-02, has always lived with her in her
% flat on Quay Street, whose costs ($11,000 in 2017) she pays alone. Zack married Ann on
% 2017-06-01; Ann, who has no income, lives with her parents, and Zack and Ann do not file a joint return. Zack
% earned $5,000 in 2017 and Yolanda $50,000. Yolanda takes the standard deduction.
% By hand: Zack is Yolanda's qualifying child and she is a head of household, as when Ann has
% income (married at the close of the year, but no joint return: §2(b)(1)(A)(i)(I) and (II)
% together do not hold). Ann is Yolanda's daughter-in-law (§152(d)(2)(G)): the text asks no
% common abode of her, she has no income and is nobody's qualifying child (her parents are not
% in the case), so she is Yolanda's qualifying relative too: three exemptions, $6,000.
% Standard deduction $4,400: taxable income $39,600; §1(b)(ii): $4,440 + 28% of $10,000 = $7,240.

% Question
% How much tax does Yolanda have to pay in 2017? $7240

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
income_(zack_wages).
agent_(zack_wages,zack).
amount_(zack_wages,5000).
start_(zack_wages,"2017-12-31").
income_(yolanda_wages).
agent_(yolanda_wages,yolanda).
amount_(yolanda_wages,50000).
start_(yolanda_wages,"2017-12-31").

% Test
:- tax(yolanda,2017,7240).
:- halt.
