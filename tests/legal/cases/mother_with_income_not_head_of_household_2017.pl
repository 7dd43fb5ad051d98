% Text
% Uma has never married. Her mother Vera lives alone in an apartment on Lake Street; Uma pays all
% of its costs ($9600 in 2017). Vera was paid $5000 in 2017. Uma lives in her own flat and
% earned $52000 in 2017. She takes the standard deduction.
% By hand: Vera has income, so she is not Uma's qualifying relative (§152(d)(1)(B)) and Uma is
% not entitled to a deduction for her: not a head of household (§2(b)(1)(B)). §1(c):
% $52,000 - $3,000 - $2,000 = $47,000: §1(c)(ii), $3,315 + 28% of $24,900 = $10,287.

% Question
% How much tax does uma have to pay in 2017? $10287

% Facts
:- [statutes/prolog/init].
mother_(vera_is_umas_mother).
agent_(vera_is_umas_mother,vera).
patient_(vera_is_umas_mother,uma).
residence_(vera_at_lake_street).
agent_(vera_at_lake_street,vera).
patient_(vera_at_lake_street,lake_street_apartment).
start_(vera_at_lake_street,"2001-01-01").
residence_(uma_at_her_flat).
agent_(uma_at_her_flat,uma).
patient_(uma_at_her_flat,umas_flat).
start_(uma_at_her_flat,"2008-01-01").
payment_(uma_pays_rent).
agent_(uma_pays_rent,uma).
purpose_(uma_pays_rent,lake_street_apartment).
amount_(uma_pays_rent,9600).
start_(uma_pays_rent,"2017-12-01").
payment_(vera_paid).
patient_(vera_paid,vera).
amount_(vera_paid,5000).
start_(vera_paid,"2017-07-31").
payment_(uma_salary).
patient_(uma_salary,uma).
amount_(uma_salary,52000).
start_(uma_salary,"2017-12-31").

% Test
:- tax(uma,2017,10287).
:- halt.
