% Text
% Noor has never married and has no children. Her consulting income for 2017 was $262,600. She
% itemizes: $12,000 of state taxes paid on April 3rd, 2017 and $8,000 of charitable gifts on
% November 20th, 2017.
% By hand: §1(c). Itemized deductions $20,000; §68(b)(1)(C) applicable amount $250,000, excess
% $12,600; reduction the lesser of 3% ($378) and 80% ($16,000): $378, so $19,622 allowed.
% §151(d)(3)(B): $12,600 / $2,500 = 5.04, "or fraction thereof": 6 steps, 12%, so the
% exemption amount is $1,760. Taxable income $262,600 - $19,622 - $1,760 = $241,218;
% §1(c)(iv): $31,172 + 36% of $126,218 = $76,610.48, i.e. $76,610.

% Question
% How much tax does Noor have to pay in 2017? $76610

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
:- tax(noor,2017,76610).
:- halt.
