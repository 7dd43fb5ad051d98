% Text
% Ada and Ben married on 2005-09-10 and file a joint return for 2017. Their son Cal, born
% 2010-04-02, lives with them in their house all year. Ada earned $261000 and Ben $90000 in
% 2017. Ada claims $40000 of itemized deductions for 2017.
% By hand: adjusted gross income of the joint return $351,000 (no deduction of the corpus is
% taken above the line). They itemize (§63(b) does not apply): taxable income is gross income
% minus the deductions other than the standard deduction (§63(a)).
% §68: applicable amount $300,000 (§68(b)(1)(A), joint return); excess $51,000; reduction the
% lesser of 3% of it, $1,530 ((a)(1)), and 80% of $40,000, $32,000 ((a)(2)): itemized
% deductions $38,470.
% §151(d)(3): the excess over the §68(b) amount, $51,000, is 20 steps of $2,500 and a
% fraction: 21 steps, 42% (§151(d)(3)(B)); exemption amount $2,000 x 58% = $1,160. Three
% exemptions: Ada and Ben as the taxpayers on the joint return (§151(b)), Cal as a dependent
% (§151(c)): $3,480.
% Taxable income $351,000 - $38,470 - $3,480 = $309,050; §1(a)(v): $75,528.50 + 39.6% of
% ($309,050 - $250,000) = $75,528.50 + $23,383.80 = $98,912.30: $98,912.

% Question
% How much tax does Ada have to pay in 2017? $98912

% Facts
:- [statutes/prolog/init].
marriage_(ada_ben).
agent_(ada_ben,ada).
agent_(ada_ben,ben).
start_(ada_ben,"2005-09-10").
son_(cal_son).
agent_(cal_son,cal).
patient_(cal_son,ada).
patient_(cal_son,ben).
start_(cal_son,"2010-04-02").
residence_(family_home).
agent_(family_home,ada).
agent_(family_home,ben).
agent_(family_home,cal).
patient_(family_home,ada_ben_house).
start_(family_home,"2010-04-02").
joint_return_(ada_ben_2017).
agent_(ada_ben_2017,ada).
agent_(ada_ben_2017,ben).
start_(ada_ben_2017,"2017-01-01").
end_(ada_ben_2017,"2017-12-31").
income_(ada_salary).
agent_(ada_salary,ada).
amount_(ada_salary,261000).
start_(ada_salary,"2017-12-31").
income_(ben_salary).
agent_(ben_salary,ben).
amount_(ben_salary,90000).
start_(ben_salary,"2017-12-31").
deduction_(ada_itemized).
agent_(ada_itemized,ada).
amount_(ada_itemized,40000).
start_(ada_itemized,"2017-12-31").

% Test
:- tax(ada,2017,98912).
:- halt.
