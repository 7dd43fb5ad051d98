% Text
% Xan married Yul in 2000. Yul, a nonresident alien, died on September 9th, 2016. Their son Zak, born
% January 15th, 2006, lives with Xan in Xan's house, whose costs Xan pays ($16000 in 2017). Xan earned
% $50000 in 2017 and does not itemize.
% By hand: no joint return could have been made for 2016, Yul being a nonresident alien (§2(a)(2)(B)):
% Xan is no surviving spouse.

% Question
% Section 2(a) applies to Xan in 2017. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(xan_yul).
agent_(xan_yul,xan).
agent_(xan_yul,yul).
start_(xan_yul,"2000-06-06").
nonresident_alien_(yul_nra).
agent_(yul_nra,yul).
death_(yul_dies).
agent_(yul_dies,yul).
start_(yul_dies,"2016-09-09").
son_(zak_son_of_xan).
agent_(zak_son_of_xan,zak).
patient_(zak_son_of_xan,xan).
start_(zak_son_of_xan,"2006-01-15").
residence_(xan_home).
agent_(xan_home,xan).
patient_(xan_home,xans_house).
start_(xan_home,"2006-01-15").
residence_(zak_home).
agent_(zak_home,zak).
patient_(zak_home,xans_house).
start_(zak_home,"2006-01-15").
payment_(xan_house_costs).
agent_(xan_house_costs,xan).
purpose_(xan_house_costs,xans_house).
amount_(xan_house_costs,16000).
start_(xan_house_costs,"2017-06-01").
income_(xan_income).
agent_(xan_income,xan).
amount_(xan_income,50000).
start_(xan_income,"2017-12-31").

% Test
:- \+ s2_a(xan,_,_,_,2017).
:- halt.
