% Text
% Tom's sister Sue (born 1960) has a son, Ben, born June 6th, 1985, who lives in a room of his own.
% Tom (born 1962), unmarried, lives alone in his flat. Ben has no income; Sue earned $40000 and Tom
% $50000 in 2017. Tom does not itemize.
% By hand: Ben is Tom's qualifying relative, hence his dependent (§152(a)(2)); he does not live with
% Tom, so Tom is no head of household ((A)(ii) needs the household). $50,000 - $3,000 - two
% exemptions $4,000 = $43,000: §1(c)(ii) $3,315 + 28% of $20,900 = $9,167.

% Question
% How much tax does Tom have to pay in 2017? $9167

% Facts
:- [statutes/prolog/init].
sister_(sue_sister_of_tom).
agent_(sue_sister_of_tom,sue).
patient_(sue_sister_of_tom,tom).
son_(ben_son_of_sue).
agent_(ben_son_of_sue,ben).
patient_(ben_son_of_sue,sue).
start_(ben_son_of_sue,"1985-06-06").
birth_(ben_born).
agent_(ben_born,ben).
start_(ben_born,"1985-06-06").
birth_(sue_born).
agent_(sue_born,sue).
start_(sue_born,"1960-02-02").
birth_(tom_born).
agent_(tom_born,tom).
start_(tom_born,"1962-03-03").
residence_(sue_lives).
agent_(sue_lives,sue).
patient_(sue_lives,sues_house).
start_(sue_lives,"2000-01-01").
residence_(tom_lives).
agent_(tom_lives,tom).
patient_(tom_lives,toms_flat).
start_(tom_lives,"2000-01-01").
income_(tom_income).
agent_(tom_income,tom).
amount_(tom_income,50000).
start_(tom_income,"2017-12-31").
income_(sue_income).
agent_(sue_income,sue).
amount_(sue_income,40000).
start_(sue_income,"2017-12-31").
residence_(ben_lives).
agent_(ben_lives,ben).
patient_(ben_lives,bens_room).
start_(ben_lives,"2010-01-01").

% Test
:- tax(tom,2017,9167).
:- halt.
