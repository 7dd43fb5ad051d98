% Text
% Tom has never married. His sister Una lives with her daughter Vi, born June 1st, 2007, in Una's
% house. Una was paid $35000 in 2017; Vi has no income. Tom lives alone and was paid $40000 in 2017; he takes the standard
% deduction.
% By hand: Vi is a daughter of Tom's sister (§152(d)(2)(E)) with no income, but she is Una's
% qualifying child (her child, same abode, 10 years old): §152(d)(1)(D) fails, so she is not
% Tom's qualifying relative, and not his qualifying child (another abode). Una has income: not his qualifying relative either
% (§152(d)(1)(B)). One exemption.
% $40,000 - $3,000 - $2,000 = $35,000: §1(c)(ii), $3,315 + 28% of $12,900 = $6,927.

% Question
% How much tax does tom have to pay in 2017? $6927

% Facts
:- [statutes/prolog/init].
sister_(una_is_toms_sister).
agent_(una_is_toms_sister,una).
patient_(una_is_toms_sister,tom).
daughter_(vi_is_unas_daughter).
agent_(vi_is_unas_daughter,vi).
patient_(vi_is_unas_daughter,una).
birth_(vi_born).
agent_(vi_born,vi).
start_(vi_born,"2007-06-01").
birth_(una_born).
agent_(una_born,una).
start_(una_born,"1980-02-02").
residence_(una_home).
agent_(una_home,una).
patient_(una_home,unas_house).
start_(una_home,"2005-01-01").
payment_(una_paid).
patient_(una_paid,una).
amount_(una_paid,35000).
start_(una_paid,"2017-12-31").
residence_(vi_home).
agent_(vi_home,vi).
patient_(vi_home,unas_house).
start_(vi_home,"2007-06-01").
residence_(tom_home).
agent_(tom_home,tom).
patient_(tom_home,toms_flat).
start_(tom_home,"2010-01-01").
payment_(tom_paid).
patient_(tom_paid,tom).
amount_(tom_paid,40000).
start_(tom_paid,"2017-12-31").

% Test
:- tax(tom,2017,6927).
:- halt.
