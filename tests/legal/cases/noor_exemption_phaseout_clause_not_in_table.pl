% Text
% Noor has never married and has no children. Her consulting income for 2017 was $262,600.
% By hand: §151(d)(3): her AGI exceeds the §68(b) applicable amount ($250,000) by $12,600, 5.04
% steps of $2,500, "or fraction thereof" 6: 12%, so the exemption amount of $2,000 is reduced to
% $1,760. The question gives the amount before the year, and $2,000-like amounts are not
% mistaken for a year.

% Question
% Section 151(d)(3) reduces Noor's exemption amount to $1760 for 2017. Entailment

% Facts
:- [statutes/prolog/init].
income_(noor_consulting).
agent_(noor_consulting,noor).
amount_(noor_consulting,262600).
start_(noor_consulting,"2017-12-31").
deduction_(noor_state_taxes).
agent_(noor_state_taxes,noor).
amount_(noor_state_taxes,12000).
start_(noor_state_taxes,"2017-04-03").
deduction_(noor_gifts).
agent_(noor_gifts,noor).
amount_(noor_gifts,8000).
start_(noor_gifts,"2017-11-20").

% Test
:- s151_d_3(noor,1760,2017).
:- halt.
