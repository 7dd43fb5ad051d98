% Text
% Tom's sister Sue (born 1960) has a son, Ben, born June 6th, 1985, who lives in a room of his own.
% Tom (born 1962) lives alone in his flat. Ben has no income; Sue earned $40000 and Tom $50000 in 2017.
% By hand: Ben (32) is nobody's qualifying child (§152(c)(3)), is the son of Tom's sister
% (§152(d)(2)(E)) and has no income: a qualifying relative of Tom (§152(d)).

% Question
% Ben is a qualifying relative of Tom under section 152(d) for the year 2017. Entailment

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
:- s152_d(ben,tom,2017).
:- halt.
