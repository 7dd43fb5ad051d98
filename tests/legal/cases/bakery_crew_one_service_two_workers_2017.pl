% Text
% Olga, single, runs a bakery. Pia and Quinn worked together for her in the bakery from
% 2017-03-01 to 2017-03-31 (one service, performed by both). On 2017-03-31 Olga paid Pia $5,000
% and Quinn $2,000 in cash for that work. Olga's own income in 2017 was $60,000; she takes the
% standard deduction.
% By hand: each payment is remuneration of its payee alone: wages $5,000 (Pia) + $2,000 (Quinn)
% = $7,000, each under the $7,000 of §3306(b)(1); $7,000 >= $1,500, so Olga is an employer
% (§3306(a)(1)(A)); excise tax 6% = $420 (§3301). Taxable income $60,000 - $3,000 - $2,000 =
% $55,000; §1(c)(iii): $12,107 + 31% of $1,500 = $12,572. Total $12,992.

% Question
% How much tax does Olga have to pay in 2017? $12992

% Facts
:- [statutes/prolog/init].
service_(bakery_work).
agent_(bakery_work,pia).
agent_(bakery_work,quinn).
patient_(bakery_work,olga).
start_(bakery_work,"2017-03-01").
end_(bakery_work,"2017-03-31").
payment_(olga_pays_pia).
agent_(olga_pays_pia,olga).
patient_(olga_pays_pia,pia).
purpose_(olga_pays_pia,bakery_work).
amount_(olga_pays_pia,5000).
means_(olga_pays_pia,"cash").
start_(olga_pays_pia,"2017-03-31").
payment_(olga_pays_quinn).
agent_(olga_pays_quinn,olga).
patient_(olga_pays_quinn,quinn).
purpose_(olga_pays_quinn,bakery_work).
amount_(olga_pays_quinn,2000).
means_(olga_pays_quinn,"cash").
start_(olga_pays_quinn,"2017-03-31").
income_(olga_income).
agent_(olga_income,olga).
amount_(olga_income,60000).
start_(olga_income,"2017-12-31").

% Test
:- tax(olga,2017,12992).
:- halt.
