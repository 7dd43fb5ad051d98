% Text
% Noor has never married and has no children. Her consulting income for 2017 was $262,600. She
% itemizes $20,000 of deductions.
% By hand: an individual who is not married and is neither a surviving spouse nor a head of
% household: §68(b)(1)(C), applicable amount $250,000. Our node fixes the amount in its clause
% head; the question's $250,000 is compared with it.

% Question
% Under section 68(b)(1)(C), Noor's applicable amount for 2017 is $250000. Entailment

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
:- s68_b_1_C(noor,250000,2017).
:- halt.
