% Text
% Noor has never married and has no children. Her consulting income for 2017 was $262,600. She
% itemizes: $12,000 of state taxes paid on April 3rd, 2017 and $8,000 of charitable gifts on
% November 20th, 2017.
% By hand: §68(b)(1)(C) applicable amount $250,000, excess $12,600; the itemized deductions of
% $20,000 are reduced by the lesser of 3% of the excess ($378) and 80% of them ($16,000).
% $19,622 remain, not $20,000.

% Question
% Under section 68, Noor's itemized deductions for 2017 are $20000. Contradiction

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
:- \+ s68(noor,2017,20000).
:- halt.
