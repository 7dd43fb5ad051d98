% Text
% Yolanda has never been married. Her son Zack, born 1997-02-02, has always lived with her in her
% flat, whose costs she pays alone. Zack married Ann on 2017-06-01, and Zack and Ann file a joint
% return for 2017.
% By hand: Zack made a joint return with his spouse for 2017, so he is not Yolanda's dependent by
% reason of §152(b)(2): §2(b)(1)(A)(i)(II) holds of "such child", Zack, whichever order the
% question names them in.

% Question
% Section 2(b)(1)(A)(i)(II) applies to Yolanda and Zack for 2017. Entailment

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
joint_return_(zack_ann_return).
agent_(zack_ann_return,zack).
agent_(zack_ann_return,ann).
start_(zack_ann_return,"2017-01-01").
end_(zack_ann_return,"2017-12-31").
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
:- s2_b_1_A_i_II(yolanda,zack,2017).
:- halt.
