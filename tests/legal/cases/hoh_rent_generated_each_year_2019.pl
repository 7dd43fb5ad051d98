% Text
% Zoe has never married. Her daughter Amy was born October 10th, 2010 and lives with her in her flat.
% Zoe pays the rent of $12000 on the first day of each year from 2015 to 2019. Zoe earned $64000 in
% 2019 and does not itemize.
% By hand: head of household (§2(b)(1)(A)(i)); 2019: basic standard deduction $18,000
% (§63(c)(7)), exemption amount zero: taxable $46,000, §1(b)(ii) $4,440 + 28% of $16,400 =
% $9,032.

% Question
% How much tax does Zoe have to pay in 2019? $9032

% Facts
:- [statutes/prolog/init].
birth_(zoe_born).
agent_(zoe_born,zoe).
start_(zoe_born,"1985-02-02").
daughter_(amy_daughter_of_zoe).
agent_(amy_daughter_of_zoe,amy).
patient_(amy_daughter_of_zoe,zoe).
start_(amy_daughter_of_zoe,"2010-10-10").
residence_(zoe_lives).
agent_(zoe_lives,zoe).
patient_(zoe_lives,zoes_flat).
start_(zoe_lives,"2009-01-01").
residence_(amy_lives).
agent_(amy_lives,amy).
patient_(amy_lives,zoes_flat).
start_(amy_lives,"2010-10-10").
zoe_rent(Year,Event,Day) :-
    between(2015,2019,Year),
    atom_concat('zoe_pays_rent_',Year,Event),
    first_day_year(Year,Day).
payment_(Event) :- zoe_rent(_,Event,_).
agent_(Event,zoe) :- zoe_rent(_,Event,_).
purpose_(Event,zoes_flat) :- zoe_rent(_,Event,_).
amount_(Event,12000) :- zoe_rent(_,Event,_).
start_(Event,Day) :- zoe_rent(_,Event,Day).
income_(zoe_income_2019).
agent_(zoe_income_2019,zoe).
amount_(zoe_income_2019,64000).
start_(zoe_income_2019,"2019-12-31").

% Test
:- tax(zoe,2019,9032).
:- halt.
