% Text
% Uma has never married. Her mother Vera, who has no income, lives alone in an apartment on
% Lake Street; Uma pays all of its costs ($9600 in 2017). Uma lives in her own flat and earned
% $52000 in 2017. She takes the standard deduction.
% By hand: Vera is Uma's mother, §152(d)(2)(C). No training case asks about (d)(2)(C): the
% clause is placed by the kinds of its arguments (two individuals in order, a year).

% Question
% Vera bears a relationship to Uma described in section 152(d)(2)(C) for the year 2017. Entailment

% Facts
:- [statutes/prolog/init].
mother_(vera_is_umas_mother).
agent_(vera_is_umas_mother,vera).
patient_(vera_is_umas_mother,uma).
start_(vera_is_umas_mother,"1984-02-11").
birth_(uma_born).
agent_(uma_born,uma).
start_(uma_born,"1984-02-11").
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
payment_(uma_salary).
patient_(uma_salary,uma).
amount_(uma_salary,52000).
start_(uma_salary,"2017-12-31").

% Test
:- s152_d_2_C(vera,uma,2017).
:- halt.
