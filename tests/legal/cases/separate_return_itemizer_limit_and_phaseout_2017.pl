% Text
% Eve and Fred, married since 2005, file separate returns for 2017. Eve earned $170000 and Fred
% $40000. Eve itemizes: $12000 of mortgage interest and $8000 given to charity.
% By hand: applicable amount ½ of $300,000 = $150,000 (§68(b)(1)(D)); excess $20,000. §68: lesser of
% 3% ($600) and 80% of $20,000: itemized $19,400. §151(d)(3): 16 steps of $1,250, 32%: Eve's
% exemption $1,360 (none for Fred, who has income). Taxable $149,240: §1(d)(v) $37,764.25 + 39.6% of
% $24,240 = $47,363.29.

% Question
% How much tax does Eve have to pay in 2017? $47363

% Facts
:- [statutes/prolog/init].
marriage_(eve_fred).
agent_(eve_fred,eve).
agent_(eve_fred,fred).
start_(eve_fred,"2005-05-05").
income_(eve_income).
agent_(eve_income,eve).
amount_(eve_income,170000).
start_(eve_income,"2017-12-31").
income_(fred_income).
agent_(fred_income,fred).
amount_(fred_income,40000).
start_(fred_income,"2017-12-31").
deduction_(eve_mortgage_interest).
agent_(eve_mortgage_interest,eve).
amount_(eve_mortgage_interest,12000).
start_(eve_mortgage_interest,"2017-12-31").
deduction_(eve_charity).
agent_(eve_charity,eve).
amount_(eve_charity,8000).
start_(eve_charity,"2017-06-15").

% Test
:- tax(eve,2017,47363).
:- halt.
