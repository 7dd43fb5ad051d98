% Text
% Jane, born July 7th, 1972, has never married. Her daughter Ivy, born January 15th, 1997, and
% Ivy's son Kai, born February 20th, 2016, live with Jane in Jane's house, whose costs ($16000 in
% 2017) Jane pays alone. Ivy has never married; in 2017 she worked at a cafe, which paid her
% $10000 in wages. Kai has no income. Jane was paid $70000 in 2017. Nobody itemizes.
% By hand: Ivy (a child, 20, younger than Jane) and Kai (a descendant of a child) are Jane's
% qualifying children (§152(c)(2)(A)), hence dependents; Jane is a head of household
% (§2(b)(1)(A)(i)). Standard deduction $4,400; three exemptions $6,000; taxable income
% $59,600: §1(b)(ii), $4,440 + 28% of $30,000 = $12,840.

% Question
% How much tax does jane have to pay in 2017? $12840

% Facts
:- [statutes/prolog/init].
daughter_(ivy_is_janes_daughter).
agent_(ivy_is_janes_daughter,ivy).
patient_(ivy_is_janes_daughter,jane).
birth_(ivy_born).
agent_(ivy_born,ivy).
start_(ivy_born,"1997-01-15").
son_(kai_is_ivys_son).
agent_(kai_is_ivys_son,kai).
patient_(kai_is_ivys_son,ivy).
birth_(kai_born).
agent_(kai_born,kai).
start_(kai_born,"2016-02-20").
birth_(jane_born).
agent_(jane_born,jane).
start_(jane_born,"1972-07-07").
residence_(jane_home).
agent_(jane_home,jane).
patient_(jane_home,janes_house).
start_(jane_home,"1997-01-15").
residence_(ivy_home).
agent_(ivy_home,ivy).
patient_(ivy_home,janes_house).
start_(ivy_home,"1997-01-15").
residence_(kai_home).
agent_(kai_home,kai).
patient_(kai_home,janes_house).
start_(kai_home,"2016-02-20").
payment_(jane_keeps_house).
agent_(jane_keeps_house,jane).
purpose_(jane_keeps_house,janes_house).
amount_(jane_keeps_house,16000).
start_(jane_keeps_house,"2017-06-30").
service_(ivy_works).
agent_(ivy_works,ivy).
patient_(ivy_works,cafe_owner).
start_(ivy_works,"2017-01-02").
end_(ivy_works,"2017-12-22").
payment_(ivy_wages).
agent_(ivy_wages,cafe_owner).
patient_(ivy_wages,ivy).
purpose_(ivy_wages,ivy_works).
amount_(ivy_wages,10000).
start_(ivy_wages,"2017-12-22").
payment_(jane_paid).
patient_(jane_paid,jane).
amount_(jane_paid,70000).
start_(jane_paid,"2017-12-31").

% Test
:- tax(jane,2017,12840).
:- halt.
