% Text
% Leah's husband Moshe died on January 2nd, 2015; they had married in 1999. Leah has not
% remarried. Their daughter Nina, born 2006-07-07, lives with Leah in the house on Cedar Road
% that Leah owns and pays for alone ($15,000 of costs in 2017). Leah earned $60,000 in 2017 and
% takes the standard deduction.
% By hand: Moshe died in 2015, one of the two years immediately preceding 2017, and Nina is a
% daughter living with Leah for whom she has an exemption: Leah is a surviving spouse (§2(a)), §1(a).
% Basic standard deduction 200% of $3,000 = $6,000 (§63(c)(2)(A)(ii)),
% exemptions $4,000: taxable income $50,000; §1(a)(ii): $5,535 + 28% of $13,100 = $9,203.

% Question
% How much tax does Leah have to pay in 2017? $9203

% Facts
:- [statutes/prolog/init].
marriage_(leah_moshe).
agent_(leah_moshe,leah).
agent_(leah_moshe,moshe).
start_(leah_moshe,"1999-08-22").
death_(moshe_dies).
agent_(moshe_dies,moshe).
start_(moshe_dies,"2015-01-02").
daughter_(nina_daughter).
agent_(nina_daughter,nina).
patient_(nina_daughter,leah).
patient_(nina_daughter,moshe).
start_(nina_daughter,"2006-07-07").
residence_(cedar_home).
agent_(cedar_home,leah).
agent_(cedar_home,nina).
patient_(cedar_home,cedar_road_house).
start_(cedar_home,"2006-07-07").
payment_(leah_house_costs).
agent_(leah_house_costs,leah).
purpose_(leah_house_costs,cedar_road_house).
amount_(leah_house_costs,15000).
start_(leah_house_costs,"2017-05-01").
payment_(leah_pay).
patient_(leah_pay,leah).
amount_(leah_pay,60000).
start_(leah_pay,"2017-12-31").

% Test
:- tax(leah,2017,9203).
:- halt.
