% Text
% Jon and Kay have been married since 2008 and file separate returns. Kay earned $15000 in 2016 and
% nothing in 2017; Jon earned $45000 in 2016 and $47000 in 2017.
% By hand: in 2016 Kay had gross income: no exemption for her (§151(b)).

% Question
% Jon can receive an exemption for Kay under section 151(b) for the year 2016. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(jon_kay_marriage).
agent_(jon_kay_marriage,jon).
agent_(jon_kay_marriage,kay).
start_(jon_kay_marriage,"2008-04-04").
income_(kay_income_2016).
agent_(kay_income_2016,kay).
amount_(kay_income_2016,15000).
start_(kay_income_2016,"2016-12-31").
income_(jon_income_2016).
agent_(jon_income_2016,jon).
amount_(jon_income_2016,45000).
start_(jon_income_2016,"2016-12-31").
income_(jon_income_2017).
agent_(jon_income_2017,jon).
amount_(jon_income_2017,47000).
start_(jon_income_2017,"2017-12-31").

% Test
:- \+ s151_b(jon,kay,_,2016).
:- halt.
