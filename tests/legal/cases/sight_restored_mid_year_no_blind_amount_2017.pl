% Text
% Ola, born January 1st, 1980, has never married. She was blind from 2010 until an operation restored
% her sight on June 30th, 2017. She earned $40000 in 2017 and does not itemize.
% By hand: she is not blind at the close of 2017 (§63(f)(2)(A)): no additional amount. $40,000 -
% $3,000 - $2,000 = $35,000: §1(c)(ii) $3,315 + 28% of $12,900 = $6,927.

% Question
% How much tax does Ola have to pay in 2017? $6927

% Facts
:- [statutes/prolog/init].
birth_(ola_born).
agent_(ola_born,ola).
start_(ola_born,"1980-01-01").
blindness_(ola_blind).
agent_(ola_blind,ola).
start_(ola_blind,"2010-01-01").
end_(ola_blind,"2017-06-30").
income_(ola_income).
agent_(ola_income,ola).
amount_(ola_income,40000).
start_(ola_income,"2017-12-31").

% Test
:- tax(ola,2017,6927).
:- halt.
