% Text
% Uma, born 1984-02-11, has never married. Her mother Vera lived with Vera's sister Vesta
% (who earned $30000 in 2017) until March 31st, 2017 and has lived since April 1st, 2017 in a flat whose rent Uma pays ($7200
% in 2017). Vera had no income in 2017. Uma lives in her own flat. Uma was paid $52000 in 2017
% and takes the standard deduction.
% By hand: Vera is Uma's qualifying relative (her mother, §152(d)(2)(C), no income, nobody's
% qualifying child): Uma is entitled to a §151(c) deduction for her (not for her aunt Vesta,
% who has income: §152(d)(1)(B)). Head of household by
% §2(b)(1)(B) needs a household that constitutes "for such taxable year" the principal place
% of abode of the mother: the flat is hers from April 1st only, not for the year. (A) needs
% the household to be Uma's home, and Vera does not live with Uma. So Uma is single (§1(c)):
% standard deduction $3,000; exemptions Uma and Vera $4,000; taxable income $45,000:
% $3,315 + 28% of ($45,000 - $22,100) = $3,315 + $6,412 = $9,727.

% Question
% How much tax does Uma have to pay in 2017? $9727

% Facts
:- [statutes/prolog/init].
mother_(vera_mother).
agent_(vera_mother,vera).
patient_(vera_mother,uma).
start_(vera_mother,"1984-02-11").
sister_(vera_sister).
agent_(vera_sister,vesta).
patient_(vera_sister,vera).
residence_(vera_at_vesta).
agent_(vera_at_vesta,vera).
agent_(vera_at_vesta,vesta).
patient_(vera_at_vesta,vesta_house).
start_(vera_at_vesta,"2010-01-01").
income_(vesta_wages).
agent_(vesta_wages,vesta).
amount_(vesta_wages,30000).
start_(vesta_wages,"2017-12-31").
end_(vera_at_vesta,"2017-03-31").
residence_(vera_at_flat).
agent_(vera_at_flat,vera).
patient_(vera_at_flat,vera_flat).
start_(vera_at_flat,"2017-04-01").
payment_(uma_pays_rent).
agent_(uma_pays_rent,uma).
purpose_(uma_pays_rent,vera_flat).
amount_(uma_pays_rent,7200).
start_(uma_pays_rent,"2017-12-01").
residence_(uma_home).
agent_(uma_home,uma).
patient_(uma_home,uma_flat).
start_(uma_home,"2008-01-01").
payment_(uma_salary).
patient_(uma_salary,uma).
amount_(uma_salary,52000).
start_(uma_salary,"2017-12-31").

% Test
:- tax(uma,2017,9727).
:- halt.
