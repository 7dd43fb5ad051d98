% Text
% Wendy, who has never been married, hired Xavier to paint her garage on 2016-08-13 and paid him
% $2000 that day. On 2017-06-10 Xavier repaired her fence for her, and Wendy paid him $1200 for it
% that day. Wendy's own salary in 2017 was $30000; she takes the standard deduction.
% By hand: in 2016 (the preceding calendar year) Wendy paid wages of $2,000 >= $1,500, so she is
% an employer for 2017 (§3306(a)(1)(A)); the 2017 wages are $1,200, excise tax 6% = $72 (§3301).
% Income tax: $30,000 - $3,000 - $2,000 = $25,000; §1(c)(ii): $3,315 + 28% of $2,900 = $4,127.
% Total $4,199.

% Question
% How much tax does Wendy have to pay in 2017? $4199

% Facts
:- [statutes/prolog/init].
service_(xavier_paints_garage).
agent_(xavier_paints_garage,xavier).
patient_(xavier_paints_garage,wendy).
start_(xavier_paints_garage,"2016-08-13").
end_(xavier_paints_garage,"2016-08-13").
payment_(wendy_pays_painting).
agent_(wendy_pays_painting,wendy).
patient_(wendy_pays_painting,xavier).
purpose_(wendy_pays_painting,xavier_paints_garage).
amount_(wendy_pays_painting,2000).
start_(wendy_pays_painting,"2016-08-13").
service_(xavier_repairs_fence).
agent_(xavier_repairs_fence,xavier).
patient_(xavier_repairs_fence,wendy).
start_(xavier_repairs_fence,"2017-06-10").
end_(xavier_repairs_fence,"2017-06-10").
payment_(wendy_pays_fence).
agent_(wendy_pays_fence,wendy).
patient_(wendy_pays_fence,xavier).
purpose_(wendy_pays_fence,xavier_repairs_fence).
amount_(wendy_pays_fence,1200).
start_(wendy_pays_fence,"2017-06-10").
payment_(wendy_salary).
patient_(wendy_salary,wendy).
amount_(wendy_salary,30000).
start_(wendy_salary,"2017-12-31").

% Test
:- tax(wendy,2017,4199).
:- halt.
