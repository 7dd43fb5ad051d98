% Text
% Uma has never married. Her mother Vera, who has no income, lives alone in an apartment on
% Lake Street; Uma pays all of its costs ($9600 in 2017). Uma lives in her own flat and earned
% $52000 in 2017. She takes the standard deduction.
% By hand: Uma is Vera's daughter, not her father or mother. The clause is placed by kind, as
% above; the order of the individuals decides the answer.

% Question
% Uma bears a relationship to Vera described in section 152(d)(2)(C) for the year 2017. Contradiction

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
:- \+ s152_d_2_C(uma,vera,2017).
:- halt.
