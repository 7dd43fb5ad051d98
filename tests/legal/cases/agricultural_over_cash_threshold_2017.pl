% Text
% Farida, single, runs a farm. On 2017-09-12 four workers did agricultural labor for her for the
% day: Abe, Ben, Cy and Dov were each paid $6,000 in cash. Farida's own income in 2017 was
% $100,000; she takes the standard deduction.
% By hand: cash remuneration for agricultural labor of $24,000 >= $20,000 in 2017, so the labor
% is employment (§3306(c)(1)(A)(i)) and Farida an employer (§3306(a)(2)(A): wages $24,000,
% each worker under the $7,000 of (b)(1)). Excise tax 6% = $1,440. Income tax $24,972 (as
% §1(c)(iii) gives on taxable income $95,000). Total $26,412.

% Question
% How much tax does Farida have to pay in 2017? $26412

% Facts
:- [statutes/prolog/init].
service_(abe_harvest).
agent_(abe_harvest,abe).
patient_(abe_harvest,farida).
purpose_(abe_harvest,"agricultural labor").
start_(abe_harvest,"2017-09-12").
end_(abe_harvest,"2017-09-12").
payment_(farida_pays_abe).
agent_(farida_pays_abe,farida).
patient_(farida_pays_abe,abe).
purpose_(farida_pays_abe,abe_harvest).
means_(farida_pays_abe,"cash").
amount_(farida_pays_abe,6000).
start_(farida_pays_abe,"2017-09-12").
service_(ben_harvest).
agent_(ben_harvest,ben).
patient_(ben_harvest,farida).
purpose_(ben_harvest,"agricultural labor").
start_(ben_harvest,"2017-09-12").
end_(ben_harvest,"2017-09-12").
payment_(farida_pays_ben).
agent_(farida_pays_ben,farida).
patient_(farida_pays_ben,ben).
purpose_(farida_pays_ben,ben_harvest).
means_(farida_pays_ben,"cash").
amount_(farida_pays_ben,6000).
start_(farida_pays_ben,"2017-09-12").
service_(cy_harvest).
agent_(cy_harvest,cy).
patient_(cy_harvest,farida).
purpose_(cy_harvest,"agricultural labor").
start_(cy_harvest,"2017-09-12").
end_(cy_harvest,"2017-09-12").
payment_(farida_pays_cy).
agent_(farida_pays_cy,farida).
patient_(farida_pays_cy,cy).
purpose_(farida_pays_cy,cy_harvest).
means_(farida_pays_cy,"cash").
amount_(farida_pays_cy,6000).
start_(farida_pays_cy,"2017-09-12").
service_(dov_harvest).
agent_(dov_harvest,dov).
patient_(dov_harvest,farida).
purpose_(dov_harvest,"agricultural labor").
start_(dov_harvest,"2017-09-12").
end_(dov_harvest,"2017-09-12").
payment_(farida_pays_dov).
agent_(farida_pays_dov,farida).
patient_(farida_pays_dov,dov).
purpose_(farida_pays_dov,dov_harvest).
means_(farida_pays_dov,"cash").
amount_(farida_pays_dov,6000).
start_(farida_pays_dov,"2017-09-12").
income_(farida_farm_income).
agent_(farida_farm_income,farida).
amount_(farida_farm_income,100000).
start_(farida_farm_income,"2017-12-31").

% Test
:- tax(farida,2017,26412).
:- halt.
